"""One router per resource; `api.main.create_app` assembles them."""
