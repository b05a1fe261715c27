variable "project_id" {
  description = "The Google Cloud project that runs the functions."
  type        = string
}

variable "region" {
  description = "Region of the functions, the scheduler job and the source bucket."
  type        = string
  default     = "europe-west1"
}

variable "firestore_location" {
  description = "Location of the Firestore database (a region such as europe-west1, or eur3 / nam5). It cannot change after creation."
  type        = string
  default     = "europe-west1"
}

variable "mail_from" {
  description = "Sender address of every email; must be a verified sender in SendGrid."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+$", var.mail_from))
    error_message = "mail_from must be an email address."
  }
}

variable "mail_from_name" {
  description = "Display name of the sender."
  type        = string
  default     = "Bookings"
}

variable "google_client_id" {
  description = "Client id of the OAuth web client (APIs & Services > Credentials); its secret goes to Secret Manager out of band."
  type        = string

  validation {
    condition     = endswith(var.google_client_id, ".apps.googleusercontent.com")
    error_message = "google_client_id looks like NNN-xxx.apps.googleusercontent.com."
  }
}

variable "source_bucket_name" {
  description = "Bucket for the zipped function source. Bucket names are global: the default is PROJECT_ID-function-sources."
  type        = string
  default     = null
}

variable "max_instances" {
  description = "Upper bound on instances per function (min is 0 unless min_instances says otherwise: idle functions cost nothing)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_instances >= 1
    error_message = "max_instances must be at least 1."
  }
}

variable "min_instances" {
  description = "Instances kept warm per function, e.g. { availability = 1, book = 1 }: their first guest skips the cold start, but each warm instance is billed while idle. Default: none (every function scales to zero)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for n in values(var.min_instances) : n >= 0 && floor(n) == n])
    error_message = "min_instances values must be whole numbers, 0 or more."
  }
}

variable "startup_cpu_boost" {
  description = "Give every function more CPU while an instance starts (shorter cold starts, a little extra cost per start). Set with gcloud, which must be installed where Terraform runs. Default: off."
  type        = bool
  default     = false
}

variable "resync_schedule" {
  description = "Cron schedule (UTC) on which Cloud Scheduler calls the private resync function."
  type        = string
  default     = "*/5 * * * *"
}

variable "deployer_service_account" {
  description = "Email of the service account the Cloud Build trigger runs as (cloudbuild.yaml). When set, it gets exactly what the deploy step needs; leave null to grant it yourself."
  type        = string
  default     = null
}

variable "cloud_armor_rate_limit" {
  description = "When set, a Cloud Armor rate-based policy (booking-rate-limit) to attach to your external HTTPS load balancer in front of the functions: requests per minute per client address, and how long one past it is refused. null (the default) creates nothing."
  type = object({
    requests_per_minute = number
    ban_seconds         = number
  })
  default = null

  validation {
    condition     = var.cloud_armor_rate_limit == null ? true : (var.cloud_armor_rate_limit.requests_per_minute >= 10 && var.cloud_armor_rate_limit.ban_seconds >= 60)
    error_message = "cloud_armor_rate_limit needs requests_per_minute >= 10 and ban_seconds >= 60."
  }
}
