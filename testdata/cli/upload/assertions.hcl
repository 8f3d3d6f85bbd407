# An upload step's pre- and postconditions (see cli_test.go).
variable "want" {
  type    = number
  default = 1
}

session "main" {}

upload "photo" {
  files = ["photo.png"]

  precondition {
    condition     = var.want > 0
    error_message = "want at least one photo"
  }

  postcondition {
    condition     = length(self.result.photos) == var.want
    error_message = "uploaded ${length(self.result.photos)} photos, want ${var.want}"
  }
}

output "photo_id" { value = upload.photo.result.photos[0].photo_id }
