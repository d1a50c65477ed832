"""What the product does. Adapters (REST, GraphQL, CLI) call these modules and nothing else
touches the database."""
