module github.com/veil-privacy/veil

go 1.26.8
