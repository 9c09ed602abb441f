"""The GraphQL API process: settings, authentication, watch caches, HTTP server, log endpoint."""
