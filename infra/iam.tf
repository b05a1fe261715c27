# Three identities, each with only what its job needs:
#   booking-functions  runs every function (Firestore, its own secrets)
#   booking-builds     builds the function images from source (gen2 builds run in Cloud Build)
#   booking-scheduler  signs the OIDC token Cloud Scheduler sends to the private resync function

resource "google_service_account" "runtime" {
  project      = var.project_id
  account_id   = "booking-functions"
  display_name = "Booking functions (runtime)"
  depends_on   = [google_project_service.enabled]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "booking-builds"
  display_name = "Booking functions (image builds)"
  depends_on   = [google_project_service.enabled]
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "booking-scheduler"
  display_name = "Booking resync caller (Cloud Scheduler)"
  depends_on   = [google_project_service.enabled]
}

# Firestore reads and writes. There is no narrower predefined role for document access, and
# Firestore IAM conditions cannot pick collections.
resource "google_project_iam_member" "runtime_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.runtime.email}"
}

# Per-connection refresh tokens: the functions create a secret google-refresh-OWNER-CONNECTION
# when a Google account connects, add a version and destroy the old ones on reconnect, read it
# to call Calendar, and delete it on disconnect (functions/booking/adapters/secrets.py).
#
# A custom role rather than roles/secretmanager.admin: admin also carries secrets.setIamPolicy
# and secrets.update, so a compromised function could grant anyone read access to every refresh
# token. This role holds exactly the calls the adapter makes.
resource "google_project_iam_custom_role" "refresh_token_secrets" {
  project     = var.project_id
  role_id     = "bookingRefreshTokenSecrets"
  title       = "Booking: per-connection refresh-token secrets"
  description = "Create, version, read and delete the google-refresh-* secrets (bound with a condition)."
  permissions = [
    "secretmanager.secrets.create",
    "secretmanager.secrets.delete",
    "secretmanager.versions.access",
    "secretmanager.versions.add",
    "secretmanager.versions.destroy",
    "secretmanager.versions.list",
  ]
  depends_on = [google_project_service.enabled]
}

# Scoped by a condition to secrets named google-refresh-*: the signing key, the SendGrid key and
# the OAuth client secret do not match, so this binding gives nothing on them (the functions get
# read-only access to those three below, secret by secret).
#
# Secret Manager resource names in conditions use the project NUMBER. secrets.create is checked
# on the parent project, whose name can never carry the prefix, hence the second clause: on the
# project itself the role allows create and nothing else (the role's other permissions apply to
# secrets and versions, which only the prefix clause lets through). The trade-off: the functions
# could create an empty secret under another name, but never read, change or delete one.
resource "google_project_iam_member" "runtime_refresh_token_secrets" {
  project = var.project_id
  role    = google_project_iam_custom_role.refresh_token_secrets.name
  member  = "serviceAccount:${google_service_account.runtime.email}"

  condition {
    title       = "google-refresh-* secrets only"
    description = "Refresh tokens of connected Google accounts, one secret per connection."
    expression  = "resource.name.startsWith(\"projects/${data.google_project.this.number}/secrets/google-refresh-\") || resource.type == \"cloudresourcemanager.googleapis.com/Project\""
  }
}

# Builds from source: read the uploaded source, write the image, write build logs.
resource "google_project_iam_member" "build_builder" {
  project = var.project_id
  role    = "roles/cloudbuild.builds.builder"
  member  = "serviceAccount:${google_service_account.build.email}"
}

# The Cloud Build trigger's identity (cloudbuild.yaml): it updates existing functions, running
# them as booking-functions and building them as booking-builds, and writes its build logs. It
# does not touch IAM: who may invoke what is set here, once.
resource "google_project_iam_member" "deployer" {
  for_each = toset([
    # run.developer only with startup CPU boost: the build sets it on the Cloud Run services.
    for role in concat(["roles/cloudfunctions.developer", "roles/logging.logWriter"],
    var.startup_cpu_boost ? ["roles/run.developer"] : []) : role
    if var.deployer_service_account != null
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${var.deployer_service_account}"
}

resource "google_service_account_iam_member" "deployer_acts_as" {
  for_each = {
    for key, account in {
      runtime = google_service_account.runtime.name
      build   = google_service_account.build.name
    } : key => account if var.deployer_service_account != null
  }

  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${var.deployer_service_account}"
}
