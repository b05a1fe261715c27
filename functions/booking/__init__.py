"""The booking backend: a pure domain core, services, and one adapter per outside service."""
