// pulumi-resource-kubernetes, built from the published provider module: its own cmd/ main embeds two files that
// `go generate` writes and git ignores (so the module lacks them); the toolchain writes them from the module's
// committed schema.json and terraform-mapping.json (version set, minified) beside this file before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() { provider.Serve("kubernetes", version.Version, schema, terraformMapping) }
