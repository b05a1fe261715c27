locals {
  # One Cloud Function per entry point of functions/main.py (the functions_framework.http
  # functions, as scripts/functions_host.py finds them), each configured below. A function added
  # to main.py without a line here stops the plan (see the precondition on the functions).
  main_py      = file("${path.module}/../functions/main.py")
  entry_points = [for m in regexall("(?m)^@functions_framework\\.http[ \\t]*\\n(?:@.*\\n)*def[ \\t]+(\\w+)\\(", local.main_py) : m[0]]

  # public: allUsers may invoke it. Owner endpoints are public too: they check the owner's API key
  # or session themselves. resync alone is private: only Cloud Scheduler's identity may call it.
  # cpu and concurrency: one instance serves `concurrency` requests at once (gen2 needs a whole
  # CPU for more than one), so a burst of guests fills max_instances x concurrency slots before
  # anyone waits, instead of max_instances. The public functions mostly wait on Firestore and
  # Google, so one CPU carries tens of requests; resync runs one job at a time.
  # identity: the service account it runs as (iam.tf), which fixes its secrets and keyrings.
  # env: the plain variables its code reads besides GOOGLE_CLOUD_PROJECT (booking/config.py;
  # tests/unit/test_infra_consistency.py checks the list against the code).
  function_settings = {
    oauth_start          = { public = true, memory = "256Mi", timeout = 30, cpu = "1", concurrency = 10, identity = "oauth-start", env = ["FUNCTION_BASE_URL", "GOOGLE_CLIENT_ID"] }
    oauth_callback       = { public = true, memory = "512Mi", timeout = 60, cpu = "1", concurrency = 10, identity = "oauth-callback", env = ["FUNCTION_BASE_URL", "GOOGLE_CLIENT_ID", "MAIL_FROM", "MAIL_FROM_NAME"] }
    owner                = { public = true, memory = "512Mi", timeout = 60, cpu = "1", concurrency = 20, identity = "owner", env = ["FUNCTION_BASE_URL", "GOOGLE_CLIENT_ID", "MAIL_FROM", "MAIL_FROM_NAME"] }
    google_notifications = { public = true, memory = "512Mi", timeout = 60, cpu = "1", concurrency = 40, identity = "push", env = ["FUNCTION_BASE_URL", "GOOGLE_CLIENT_ID", "MAIL_FROM", "MAIL_FROM_NAME"] }
    availability         = { public = true, memory = "512Mi", timeout = 30, cpu = "1", concurrency = 40, identity = "guests", env = ["FUNCTION_BASE_URL", "GOOGLE_CLIENT_ID", "MAIL_FROM", "MAIL_FROM_NAME"] }
    book                 = { public = true, memory = "512Mi", timeout = 60, cpu = "1", concurrency = 20, identity = "guests", env = ["FUNCTION_BASE_URL", "GOOGLE_CLIENT_ID", "MAIL_FROM", "MAIL_FROM_NAME"] }
    cancel               = { public = true, memory = "512Mi", timeout = 60, cpu = "1", concurrency = 20, identity = "guests", env = ["FUNCTION_BASE_URL", "GOOGLE_CLIENT_ID", "MAIL_FROM", "MAIL_FROM_NAME"] }
    reschedule           = { public = true, memory = "512Mi", timeout = 60, cpu = "1", concurrency = 20, identity = "guests", env = ["FUNCTION_BASE_URL", "GOOGLE_CLIENT_ID", "MAIL_FROM", "MAIL_FROM_NAME"] }
    resync               = { public = false, memory = "512Mi", timeout = 300, cpu = "1", concurrency = 1, identity = "resync", env = ["FUNCTION_BASE_URL", "GOOGLE_CLIENT_ID", "MAIL_FROM", "MAIL_FROM_NAME"] }
  }

  unconfigured = setsubtract(local.entry_points, keys(local.function_settings))
  functions = {
    for name in local.entry_points : name => local.function_settings[name]
    if contains(keys(local.function_settings), name)
  }

  base_url = "https://${var.region}-${var.project_id}.cloudfunctions.net"

  # Every plain variable a function may be given (booking/config.py reads them); each function
  # gets GOOGLE_CLOUD_PROJECT and the ones its `env` lists. Secret ones: local.secret_ids.
  plain_env = {
    FUNCTION_BASE_URL = local.base_url
    MAIL_FROM         = var.mail_from
    MAIL_FROM_NAME    = var.mail_from_name
    GOOGLE_CLIENT_ID  = var.google_client_id
  }
  function_env = {
    for name, settings in local.functions : name => merge(
      {
        GOOGLE_CLOUD_PROJECT = var.project_id
        # The platform sets it on every gen2 deploy (execution ids in the logs); declared so
        # plans show no drift.
        LOG_EXECUTION_ID = "true"
      },
      { for variable in settings.env : variable => local.plain_env[variable] },
    )
  }

  source_bucket = coalesce(var.source_bucket_name, "${var.project_id}-function-sources")
}

# The deployable source: functions/ holds main.py, requirements.txt and the booking package.
data "archive_file" "functions" {
  type        = "zip"
  source_dir  = "${path.module}/../functions"
  output_path = "${path.module}/.terraform/functions-source.zip"
  excludes    = ["**/__pycache__/**", "**/*.pyc", ".mypy_cache/**", ".pytest_cache/**"]
}

resource "google_storage_bucket" "sources" {
  # checkov:skip=CKV_GCP_62:It holds only zips of functions/ (public source code, named by content); admin access is in Cloud Audit Logs, and data-access logs would need a second bucket for nothing secret.
  # checkov:skip=CKV_GCP_78:Objects are immutable (a new name per content hash); versioning would only keep deleted build inputs.
  project                     = var.project_id
  name                        = local.source_bucket
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # It only ever holds copies of functions/ that builds have already consumed.
  force_destroy = true

  depends_on = [google_project_service.enabled]
}

resource "google_storage_bucket_object" "source" {
  # Named by content, so a change to functions/ is a new object and a redeploy.
  name   = "functions-${data.archive_file.functions.output_md5}.zip"
  bucket = google_storage_bucket.sources.name
  source = data.archive_file.functions.output_path
}

resource "google_cloudfunctions2_function" "fn" {
  # checkov:skip=CKV_GCP_124:Guests' browsers, booking forms on owners' sites and Google's push notifications reach these from the internet; resync, the one private function, is closed by IAM (only the scheduler's identity may invoke it), and Cloud Scheduler's calls do not count as internal traffic.
  for_each = local.functions

  project     = var.project_id
  name        = each.key
  location    = var.region
  description = "Booking: ${each.key} (functions/main.py)"

  build_config {
    runtime         = "python312"
    entry_point     = each.key
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    # Warm instances cost money while idle: none unless var.min_instances asks for some.
    min_instance_count               = lookup(var.min_instances, each.key, 0)
    max_instance_count               = var.max_instances
    available_memory                 = each.value.memory
    available_cpu                    = each.value.cpu
    max_instance_request_concurrency = each.value.concurrency
    timeout_seconds                  = each.value.timeout
    ingress_settings                 = "ALLOW_ALL" # Google's push notifications and guests' browsers
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.runtime[each.value.identity].email
    environment_variables            = local.function_env[each.key]

    dynamic "secret_environment_variables" {
      for_each = toset(local.identities[each.value.identity].secrets)
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = google_secret_manager_secret.out_of_band[secret_environment_variables.key].secret_id
        version    = "latest" # read when an instance starts: a new version reaches new instances
      }
    }
  }

  lifecycle {
    precondition {
      condition     = length(setsubtract(keys(var.min_instances), local.entry_points)) == 0
      error_message = "min_instances names functions that main.py does not have: ${join(", ", sort(tolist(setsubtract(keys(var.min_instances), local.entry_points))))}."
    }
    precondition {
      condition     = lookup(var.min_instances, each.key, 0) <= var.max_instances
      error_message = "min_instances for ${each.key} is above max_instances."
    }
    precondition {
      condition     = length(local.unconfigured) == 0
      error_message = "Entry points of functions/main.py without settings in infra/functions.tf (local.function_settings): ${join(", ", sort(tolist(local.unconfigured)))}."
    }
    # Cloud Build (cloudbuild.yaml) deploys the code on every push with the same settings;
    # Terraform creates each function with the code of the checkout it runs from and then leaves
    # the code to Cloud Build, so the two never undo each other's deploys.
    ignore_changes = [build_config[0].source]
  }

  depends_on = [
    google_project_service.enabled,
    google_firestore_database.default,
    google_project_iam_member.build_builder,
    google_project_iam_member.runtime_firestore,
    google_project_iam_member.runtime_refresh_token_secrets,
    google_project_iam_member.runtime_reads_refresh_tokens,
    google_secret_manager_secret_iam_member.reads_secret,
    google_secret_manager_secret_iam_member.reads_keyring,
  ]
}

# Startup CPU boost: more CPU while an instance starts, so a cold start's imports and first
# request finish sooner (https://cloud.google.com/run/docs/configuring/services/cpu, "startup
# CPU boost"; Google's announcement covers Cloud Functions 2nd gen). google_cloudfunctions2_function
# has no field for it: it is a setting of the Cloud Run service behind each function, set here
# with gcloud after every change of the function (cloudbuild.yaml does the same after each deploy
# when _CPU_BOOST is true). Off by default; it needs gcloud where Terraform runs.
resource "terraform_data" "startup_cpu_boost" {
  for_each = var.startup_cpu_boost ? local.functions : {}

  triggers_replace = [google_cloudfunctions2_function.fn[each.key].update_time]

  provisioner "local-exec" {
    command = "gcloud run services update ${regex("[^/]+$", google_cloudfunctions2_function.fn[each.key].service_config[0].service)} --project=${var.project_id} --region=${var.region} --cpu-boost --quiet"
  }
}

# Gen2 functions are Cloud Run services: invocation is Cloud Run's run.invoker on the service
# (whose name is the function's, lower-cased with "-" for "_": service_config[0].service).
resource "google_cloud_run_v2_service_iam_member" "public" {
  for_each = { for name, settings in local.functions : name => settings if settings.public }

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}
