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

# Security rules: deny everything. Only our functions use this database, through the server
# SDK with their service accounts (IAM, not rules, governs them); rules govern the web and
# mobile client SDKs, and no client of ours is one. Without a release, a project that ever
# enables Firebase could get test-mode rules that open every owner's data.
resource "google_firebaserules_ruleset" "firestore" {
  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = <<-RULES
        rules_version = '2';
        service cloud.firestore {
          match /databases/{database}/documents {
            match /{document=**} {
              allow read, write: if false;
            }
          }
        }
      RULES
    }
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [google_firestore_database.default, google_project_service.enabled]
}

resource "google_firebaserules_release" "firestore" {
  project      = var.project_id
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}

# Indexes. Every query but two is served by the automatic single-field indexes:
#   outbox:   due_at <= now ORDER BY due_at              one field (range and order on it)
#   bookings: start >= a AND start < b                    one field (owners/{id}/bookings)
#   bookings: next_reminder_at <= now ORDER BY it         one field, across owners as a
#             collection group: see the field config below
#   outbox:   owner_id == X AND status == "failed"        equality only
#   outbox:   owner_id == X AND kind == K AND status == "pending"   equality only (a reconnect)
#   channels: owner_id == X AND connection_id == Y        equality only
#   connections: sub == X, across owners (collection group): who else uses a Google account
# Equality-only filters on several fields are answered by merging the single-field indexes
# (zigzag merge join), so they need no composite index. Automatic single-field indexes cover
# collection scope only, so the two collection-group queries are declared below (the emulator
# accepts any query, so only production would fail with FAILED_PRECONDITION). A field override
# replaces the automatic indexes of its field, so each override declares every order its
# collection-scope queries use too. bookings.start has no override: its automatic indexes serve
# both the day ranges and the owner's list of recent bookings (descending).

# The reminder job asks every owner's bookings at once for the reminders now due (a
# collection-group query on `next_reminder_at`, which only bookings still owed a reminder
# carry: no scan).
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
      order       = "DESCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}

resource "google_firestore_field" "connections_sub" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "connections"
  field      = "sub"

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

# TTL: Firestore deletes a document some time (usually within a day) after the instant in its
# TTL field; documents without the field stay. Every collection that only expires:
#   oauth_states.expires_at   an OAuth attempt, 10 minutes
#   sessions.expires_at       an owner's session (owners/{id}/sessions), 12 hours
#   channels.expire_at        a day after Google's channel expiration
#   (rate_limits.expires_at, the abuse limits' counters: abuse.tf)
#   outbox.expire_at          set when a row is sent (180 days) or failed for good (365 days);
#                             pending rows have none. An outbox row is also the idempotency
#                             record of its email, hence the long keep.
#   bookings.expire_at        only on a hold waiting for the guest's confirmation by email: a
#                             day after the hold lapsed; confirming removes the field.
# Confirmed bookings, owners, connections and event types never expire.
locals {
  ttl_fields = {
    oauth_states = "expires_at"
    sessions     = "expires_at"
    channels     = "expire_at"
    outbox       = "expire_at"
    bookings     = "expire_at"
  }
}

resource "google_firestore_field" "ttl" {
  for_each = local.ttl_fields

  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = each.key
  field      = each.value

  ttl_config {}

  # Nothing queries these fields: no index on them (TTL fields with an index slow writes).
  index_config {}
}
