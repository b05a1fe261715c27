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
  }

  # Remote state: a GCS bucket with versioning, readable by the people who deploy only. No
  # secret is in the state (keys and credentials are added out of band), but it maps the whole
  # project. Create the bucket once, then `terraform init -backend-config="bucket=MY-BUCKET"`
  # (README, Deploying). Without -backend-config, init asks for the bucket.
  backend "gcs" {
    prefix = "booking"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

data "google_project" "this" {
  project_id = var.project_id
}
