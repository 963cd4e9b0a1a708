"""The fault and load suite: many Rasa instances behind HAProxy, stores taken away, nothing lost."""
