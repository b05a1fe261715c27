terraform {
  required_version = ">= 1.5"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.5" # glob patterns in archive_file excludes
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # The state holds the generated link-signing key: keep it in a bucket only admins can read,
  # e.g. `terraform init -backend-config="bucket=MY-STATE-BUCKET"` with the block below.
  # backend "gcs" {
  #   prefix = "booking"
  # }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

data "google_project" "this" {
  project_id = var.project_id
}
