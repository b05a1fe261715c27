locals {
  services = toset([
    "artifactregistry.googleapis.com", # gen2 builds push the function images here
    "calendar-json.googleapis.com",    # the owners' calendars, called with their OAuth tokens
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com", # project IAM bindings made by this configuration
    "cloudscheduler.googleapis.com",
    "firebaserules.googleapis.com", # the Firestore security rules (firestore.tf)
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "run.googleapis.com", # gen2 functions are Cloud Run services
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])
  # Only when the optional Cloud Armor policy is asked for (abuse.tf).
  armor_services = var.cloud_armor_rate_limit == null ? [] : ["compute.googleapis.com"]
}

resource "google_project_service" "enabled" {
  for_each = setunion(local.services, local.armor_services)

  project = var.project_id
  service = each.value
  # Turning an API off on destroy would break anything else in the project that uses it.
  disable_on_destroy = false
}
