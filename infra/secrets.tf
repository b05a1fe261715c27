locals {
  # Secret environment variables: variable name -> secret id. Their values are added out of
  # band (README, Deploying), so they never pass through Terraform or its state. Each function
  # gets only those of its identity (iam.tf).
  secret_ids = {
    SENDGRID_API_KEY     = "sendgrid-api-key"
    GOOGLE_CLIENT_SECRET = "google-oauth-client-secret"
  }
  # The signing keyrings, one per purpose (functions/booking/adapters/signing_keys.py). Terraform
  # creates the empty secrets and who may read them; `python -m scripts.keys create` adds the
  # keys, so no key is ever in Terraform's state.
  keyrings = toset(["channels", "links", "oauth", "sessions"])
}

resource "google_secret_manager_secret" "out_of_band" {
  for_each = local.secret_ids

  project   = var.project_id
  secret_id = each.value
  labels    = { app = "booking" }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "keyring" {
  for_each = local.keyrings

  project   = var.project_id
  secret_id = "booking-key-${each.key}"
  labels    = { app = "booking", purpose = each.key }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# Read-only access, secret by secret, identity by identity.
resource "google_secret_manager_secret_iam_member" "reads_secret" {
  for_each = local.secret_grants

  project   = var.project_id
  secret_id = google_secret_manager_secret.out_of_band[each.value.variable].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.runtime[each.value.identity].email}"
}

resource "google_secret_manager_secret_iam_member" "reads_keyring" {
  for_each = local.keyring_grants

  project   = var.project_id
  secret_id = google_secret_manager_secret.keyring[each.value.purpose].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.runtime[each.value.identity].email}"
}
