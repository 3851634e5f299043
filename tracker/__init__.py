"""The competency domain: accounts and roles, the catalogue (competencies, claims, resources) and its
formats. The site's wiring (settings, URLs, Celery, health) lives apart, in `tracker.project`."""
