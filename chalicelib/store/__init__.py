"""Storage: PynamoDB models and the few queries the domain needs. Nothing else touches DynamoDB."""
