"""The kratom harm-reduction assistant's own Python: NLU component, reply safety, channels."""
