"""Test worlds shared by the contract and Postman tests: the same seeded data in the local runtime
and in the AWS stand-ins (moto, osmem-server), the labeler both use, and the loopback HTTP server
that serves the API Lambda as API Gateway would."""
