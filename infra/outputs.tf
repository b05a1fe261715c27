output "function_urls" {
  description = "Every function's URL (https://REGION-PROJECT.cloudfunctions.net/NAME)."
  value       = { for name, fn in google_cloudfunctions2_function.fn : name => fn.url }
}

output "function_base_url" {
  description = "FUNCTION_BASE_URL: where the functions answer."
  value       = local.base_url
}

output "oauth_redirect_uri" {
  description = "Register this as an authorized redirect URI of the OAuth web client."
  value       = "${local.base_url}/oauth_callback"
}

output "runtime_service_account" {
  description = "The identity every function runs as."
  value       = google_service_account.runtime.email
}

output "secret_ids_to_fill" {
  description = "Secrets whose values are added out of band (infra/README.md)."
  value       = { for env, secret in google_secret_manager_secret.out_of_band : env => secret.secret_id }
}

output "cloud_armor_policy" {
  description = "The Cloud Armor rate-limit policy to attach to your load balancer's backend services (null unless cloud_armor_rate_limit is set)."
  value       = one(google_compute_security_policy.rate_limit[*].self_link)
}
