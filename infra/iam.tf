# Identities, each with only what its job needs:
#   booking-<identity>  the runtime of a group of functions (local.identities below): Firestore,
#                       and only the secrets and keyrings its functions' code reads
#   booking-builds      builds the function images from source (gen2 builds run in Cloud Build)
#   booking-scheduler   signs the OIDC token Cloud Scheduler sends to the private resync function
#
# tests/unit/test_infra_consistency.py reads this table and the code of every function (a call
# graph from its entry point in functions/main.py) and fails when an identity holds less, or
# more, than its functions can reach.

locals {
  # refresh_tokens: "none"; "read" (call Calendar for an owner); "write" (create, replace and
  # delete the per-connection secrets google-refresh-*, and read them).
  # keyrings: the signing keyrings (booking-key-<purpose>, secrets.tf) it may read.
  # secrets: the secret environment variables of its functions (local.secret_ids).
  identities = {
    oauth-start = {
      title          = "starts Google connections"
      refresh_tokens = "none"
      keyrings       = ["oauth", "sessions"]
      secrets        = []
    }
    oauth-callback = {
      title          = "finishes Google connections"
      refresh_tokens = "write"
      keyrings       = ["channels", "links", "oauth", "sessions"]
      secrets        = ["GOOGLE_CLIENT_SECRET", "SENDGRID_API_KEY"]
    }
    owner = {
      title          = "the owner's pages and API"
      refresh_tokens = "write"
      keyrings       = ["channels", "links", "oauth", "sessions"]
      secrets        = ["GOOGLE_CLIENT_SECRET", "SENDGRID_API_KEY"]
    }
    # Push intake: checks a channel's token, then (issue 11) runs the calendar's incremental
    # sync itself, which reads the owner's refresh token and may email both people. Issue 13
    # asked that it read none; that needs the sync moved out of the intake (see README).
    push = {
      title          = "Google push intake"
      refresh_tokens = "read"
      keyrings       = ["channels", "links"]
      secrets        = ["GOOGLE_CLIENT_SECRET", "SENDGRID_API_KEY"]
    }
    # Guests' functions read busy times and write events with the owner's grant, never store
    # or delete one.
    guests = {
      title          = "guests' availability, booking, cancel, reschedule"
      refresh_tokens = "read"
      keyrings       = ["links"]
      secrets        = ["GOOGLE_CLIENT_SECRET", "SENDGRID_API_KEY"]
    }
    resync = {
      title          = "scheduled resync and outbox"
      refresh_tokens = "read"
      keyrings       = ["channels", "links"]
      secrets        = ["GOOGLE_CLIENT_SECRET", "SENDGRID_API_KEY"]
    }
  }

  keyring_grants = merge([
    for identity, settings in local.identities : {
      for purpose in settings.keyrings : "${identity}/${purpose}" => { identity = identity, purpose = purpose }
    }
  ]...)
  secret_grants = merge([
    for identity, settings in local.identities : {
      for variable in settings.secrets : "${identity}/${variable}" => { identity = identity, variable = variable }
    }
  ]...)
  refresh_token_condition = "resource.name.startsWith(\"projects/${data.google_project.this.number}/secrets/google-refresh-\")"
}

resource "google_service_account" "runtime" {
  for_each = local.identities

  project      = var.project_id
  account_id   = "booking-${each.key}"
  display_name = "Booking: ${each.value.title}"
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
# Firestore IAM conditions cannot pick collections; the security rules (firestore.tf) shut out
# every client that is not one of these identities.
resource "google_project_iam_member" "runtime_firestore" {
  for_each = local.identities

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.runtime[each.key].email}"
}

# Per-connection refresh tokens, written by the identities marked "write": they create a secret
# google-refresh-OWNER-CONNECTION when a Google account connects, add a version and destroy the
# old ones on reconnect, read it to call Calendar, and delete it on disconnect
# (functions/booking/adapters/secrets.py).
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

# Scoped by a condition to secrets named google-refresh-*: the keyrings, the SendGrid key and
# the OAuth client secret do not match, so this binding gives nothing on them.
#
# Secret Manager resource names in conditions use the project NUMBER. secrets.create is checked
# on the parent project, whose name can never carry the prefix, hence the second clause: on the
# project itself the role allows create and nothing else (the role's other permissions apply to
# secrets and versions, which only the prefix clause lets through). The trade-off: these
# identities could create an empty secret under another name, but never read, change or delete
# one.
resource "google_project_iam_member" "runtime_refresh_token_secrets" {
  for_each = { for name, settings in local.identities : name => settings if settings.refresh_tokens == "write" }

  project = var.project_id
  role    = google_project_iam_custom_role.refresh_token_secrets.name
  member  = "serviceAccount:${google_service_account.runtime[each.key].email}"

  condition {
    title       = "google-refresh-* secrets only"
    description = "Refresh tokens of connected Google accounts, one secret per connection."
    expression  = "${local.refresh_token_condition} || resource.type == \"cloudresourcemanager.googleapis.com/Project\""
  }
}

# Read-only on the same secrets for the identities marked "read".
resource "google_project_iam_member" "runtime_reads_refresh_tokens" {
  for_each = { for name, settings in local.identities : name => settings if settings.refresh_tokens == "read" }

  project = var.project_id
  role    = "roles/secretmanager.secretAccessor"
  member  = "serviceAccount:${google_service_account.runtime[each.key].email}"

  condition {
    title       = "google-refresh-* secrets only, read"
    description = "Read the refresh tokens of connected Google accounts."
    expression  = local.refresh_token_condition
  }
}

# Builds from source: read the uploaded source, write the image, write build logs.
resource "google_project_iam_member" "build_builder" {
  # checkov:skip=CKV_GCP_49:Cloud Functions gen2 builds from source run in Cloud Build as this dedicated account, and roles/cloudbuild.builds.builder is the role Google documents for a custom build service account; it holds no function's runtime secrets.
  project = var.project_id
  role    = "roles/cloudbuild.builds.builder"
  member  = "serviceAccount:${google_service_account.build.email}"
}

# The Cloud Build trigger's identity (cloudbuild.yaml): it updates existing functions, running
# them as their identities and building them as booking-builds, and writes its build logs. It
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
    for key, account in merge(
      { for name, sa in google_service_account.runtime : name => sa.name },
      { build = google_service_account.build.name },
    ) : key => account if var.deployer_service_account != null
  }

  service_account_id = each.value
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${var.deployer_service_account}"
}
