# resync is private: Cloud Scheduler calls it every few minutes with an OIDC token of its own
# service account, and Cloud Run lets the call in because that account (and no one else but
# project owners) holds run.invoker on the resync service.

resource "google_cloud_run_v2_service_iam_member" "scheduler_invokes_resync" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn["resync"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_cloud_scheduler_job" "resync" {
  project     = var.project_id
  region      = var.region
  name        = "booking-resync"
  description = "Drains the outbox: delivers what the functions still owe Google and SendGrid."
  schedule    = var.resync_schedule
  time_zone   = "Etc/UTC"
  # Longer than the function may run, so a slow drain is not reported as failed while working.
  attempt_deadline = "${local.functions["resync"].timeout + 30}s"

  retry_config {
    retry_count = 0 # the next tick is the retry; outbox rows carry their own backoff
  }

  http_target {
    http_method = "POST"
    # The Cloud Run URL, used as the audience too: the one audience Cloud Run always accepts.
    uri = google_cloudfunctions2_function.fn["resync"].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.fn["resync"].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.scheduler_invokes_resync]
}
