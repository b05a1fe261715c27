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

output "runtime_service_accounts" {
  description = "The identity each function runs as."
  value       = { for name, settings in local.functions : name => google_service_account.runtime[settings.identity].email }
}

output "keyrings_to_create" {
  description = "Signing keyrings whose keys `python -m scripts.keys create` adds (README, Deploying)."
  value       = [for purpose, secret in google_secret_manager_secret.keyring : secret.secret_id]
}

output "secret_ids_to_fill" {
  description = "Secrets whose values are added out of band (README, Deploying)."
  value       = { for env, secret in google_secret_manager_secret.out_of_band : env => secret.secret_id }
}

output "cloud_armor_policy" {
  description = "The Cloud Armor rate-limit policy to attach to your load balancer's backend services (null unless cloud_armor_rate_limit is set)."
  value       = one(google_compute_security_policy.rate_limit[*].self_link)
}
