/*
 * Offline emergency numbers for the "uk" locale of the kratom chat widget.
 *
 * Shown by kratom-chat.js whenever the assistant cannot be reached (connection error,
 * disconnect, or no reply in time), and the first one is always in the widget's header.
 * Keep in step with bot/content/resources/uk.yml (tests/browser/test_widget_data.py checks
 * that every number here is one the assistant also gives). The object is strict JSON.
 */
(window.KratomChatLocales = window.KratomChatLocales || {})["uk"] = {
  "locale": "uk",
  "name": "United Kingdom",
  "last_reviewed": "2026-11-26",
  "source": "bot/content/resources/uk.yml (NHS 111; Samaritans)",
  "numbers": [
    {
      "name": "Emergency services",
      "phone": "999",
      "when": "a life-threatening emergency: someone is unconscious or not breathing"
    },
    {
      "name": "NHS 111",
      "phone": "111",
      "when": "urgent medical advice, for example if someone took too much"
    },
    {
      "name": "Samaritans",
      "phone": "116 123",
      "when": "free, 24/7, if you are in emotional distress"
    }
  ]
};
