# Abuse limits (functions/booking/domain/quotas.py): the counters' Firestore settings, and an
# optional Cloud Armor policy for owners who put the functions behind a load balancer.

# Counter documents are written on every public request and read back from the same commit:
# never queried, so no index is kept for them (indexing a value that rises with every request
# is also what makes hot index ranges), and each expires after its minute through a TTL policy.
resource "google_firestore_field" "rate_limits_expiry" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "rate_limits"
  field      = "expires_at"

  index_config {}
  ttl_config {}
}

resource "google_firestore_field" "rate_limits_count" {
  project    = var.project_id
  database   = google_firestore_database.default.name
  collection = "rate_limits"
  field      = "n"

  index_config {}
}

# Cloud Armor acts at an external HTTPS load balancer only (functions called on their own URLs
# never pass one). Attach this policy to the load balancer's backend service(s) for the
# functions' serverless NEGs: each client address may make `requests_per_minute` requests, and
# one that goes past it is refused with 429 for `ban_seconds`. Our own limits (Firestore) still
# apply behind it; set CLIENT_IP_HOPS=2 on the functions so they see the client, not the balancer.
resource "google_compute_security_policy" "rate_limit" {
  # checkov:skip=CKV_GCP_73:A rate-limit policy in front of Python functions: no Log4j anywhere behind it, and a WAF rule set is not what this policy is for.
  count = var.cloud_armor_rate_limit == null ? 0 : 1

  project     = var.project_id
  name        = "booking-rate-limit"
  description = "Per-address rate limit in front of the booking functions."

  rule {
    action   = "rate_based_ban"
    priority = 1000
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action   = "allow"
      exceed_action    = "deny(429)"
      enforce_on_key   = "IP"
      ban_duration_sec = var.cloud_armor_rate_limit.ban_seconds
      rate_limit_threshold {
        count        = var.cloud_armor_rate_limit.requests_per_minute
        interval_sec = 60
      }
    }
  }

  rule {
    action   = "allow"
    priority = 2147483647
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    description = "default rule"
  }

  depends_on = [google_project_service.enabled]
}
