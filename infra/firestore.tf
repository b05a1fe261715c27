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
#   bookings: next_reminder_at <= now ORDER BY it         one field, across owners as a
#             collection group: see the field config below
#   outbox:   owner_id == X AND status == "failed"        equality only
#   channels: owner_id == X AND connection_id == Y        equality only
# Equality-only filters on several fields are answered by merging the single-field indexes
# (zigzag merge join), so they need no composite index. A query that adds a range or an order on
# a second field does: declare it here as a google_firestore_index when one appears (the
# emulator accepts any query, so only production would fail with FAILED_PRECONDITION).

# The reminder job asks every owner's bookings at once for the reminders now due (a
# collection-group query on `next_reminder_at`, which only bookings still owed a reminder
# carry: no scan). Automatic single-field indexes cover collection scope only, so the
# collection-group scope is declared here.
resource "google_firestore_field" "bookings_next_reminder_collection_group" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "bookings"
  field      = "next_reminder_at"

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}
