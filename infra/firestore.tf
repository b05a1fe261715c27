resource "google_firestore_database" "default" {
  project     = var.project_id
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  # Bookings and connections live here: `terraform destroy` must not take them along.
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  deletion_policy         = "ABANDON"

  depends_on = [google_project_service.enabled]
}

# No composite indexes, on purpose: every query the functions make is served by the automatic
# single-field indexes.
#   outbox:   due_at <= now ORDER BY due_at              one field (range and order on it)
#   bookings: start >= a AND start < b                    one field (owners/{id}/bookings)
#   outbox:   owner_id == X AND status == "failed"        equality only
#   channels: owner_id == X AND connection_id == Y        equality only
# Equality-only filters on several fields are answered by merging the single-field indexes
# (zigzag merge join), so they need no composite index. A query that adds a range or an order on
# a second field does: declare it here as a google_firestore_index when one appears (the
# emulator accepts any query, so only production would fail with FAILED_PRECONDITION).
