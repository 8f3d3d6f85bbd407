# An upload step's pre- and postconditions (see cli_test.go).
variable "file" {
  type    = string
  default = "photo.png"
}

session "main" {}

upload "photo" {
  files = ["photo.png"]

  precondition {
    condition     = var.file != ""
    error_message = "name the file to expect"
  }

  postcondition {
    condition     = self.result.photos[0].file == var.file
    error_message = "uploaded ${self.result.photos[0].file}, want ${var.file}"
  }
}

output "photo_id" { value = upload.photo.result.photos[0].photo_id }
