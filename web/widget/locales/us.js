/*
 * Offline emergency numbers for the "us" locale of the kratom chat widget.
 *
 * Shown by kratom-chat.js whenever the assistant cannot be reached (connection error,
 * disconnect, or no reply in time), and the first one is always in the widget's header.
 * Keep in step with bot/content/resources/us.yml (tests/browser/test_widget_data.py checks
 * that every number here is one the assistant also gives). The object is strict JSON.
 */
(window.KratomChatLocales = window.KratomChatLocales || {})["us"] = {
  "locale": "us",
  "name": "United States",
  "last_reviewed": "2026-11-26",
  "source": "bot/content/resources/us.yml (HRSA Poison Help; 988 Suicide & Crisis Lifeline)",
  "numbers": [
    {
      "name": "Emergency services",
      "phone": "911",
      "when": "someone is unconscious, not breathing, having a seizure or chest pain"
    },
    {
      "name": "Poison Help",
      "phone": "1-800-222-1222",
      "when": "someone took too much or mixed substances (free, 24/7)"
    },
    {
      "name": "988 Suicide & Crisis Lifeline",
      "phone": "988",
      "when": "call or text, 24/7, for a mental-health or substance-use crisis"
    }
  ]
};
