"""The API's Lambda TOKEN authorizer: verifies access JWTs and refuses deactivated entities."""
