"""One router per resource of the API: analyses, credentials, soft binding, models, health."""
