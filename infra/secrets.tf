locals {
  # Secret environment variables of every function: variable name -> secret id. Their values are
  # added out of band (infra/README.md), so they never pass through Terraform or its state.
  secret_env = {
    SENDGRID_API_KEY     = "sendgrid-api-key"
    GOOGLE_CLIENT_SECRET = "google-oauth-client-secret"
  }
  # The HMAC key for signed links, OAuth state and owner sessions. The functions read it through
  # the Secret Manager API by this id (booking.config: signing_key_secret, SIGNING_KEY_SECRET).
  signing_key_secret = "link-signing-key"
}

resource "google_secret_manager_secret" "out_of_band" {
  for_each = local.secret_env

  project   = var.project_id
  secret_id = each.value
  labels    = { app = "booking" }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

resource "google_secret_manager_secret" "signing_key" {
  project   = var.project_id
  secret_id = local.signing_key_secret
  labels    = { app = "booking" }

  replication {
    auto {}
  }

  depends_on = [google_project_service.enabled]
}

# 64 letters and digits: about 380 bits for HMAC-SHA256. Changing it invalidates every link,
# OAuth state and owner session in flight (`terraform apply -replace=random_password.signing_key`).
resource "random_password" "signing_key" {
  length  = 64
  special = false
}

resource "google_secret_manager_secret_version" "signing_key" {
  secret      = google_secret_manager_secret.signing_key.id
  secret_data = random_password.signing_key.result
}

# Read-only access, secret by secret, for the runtime identity.
resource "google_secret_manager_secret_iam_member" "runtime_reads_out_of_band" {
  for_each = google_secret_manager_secret.out_of_band

  project   = var.project_id
  secret_id = each.value.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.runtime.email}"
}

resource "google_secret_manager_secret_iam_member" "runtime_reads_signing_key" {
  project   = var.project_id
  secret_id = google_secret_manager_secret.signing_key.secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.runtime.email}"
}
