"""Lambda code of the custom resource that maps the indexer's IAM role in OpenSearch security."""
