"""Access tokens: signing keys, verification, the API Gateway authorizer and access guards."""
