"""HTTP glue shared by the entry points: error mapping, health, CORS, body parsing, pages."""
