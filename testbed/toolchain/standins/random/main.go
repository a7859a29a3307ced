// pulumi-resource-random for this project's tests: RandomBytes and RandomPassword, as the project uses them.
//
// Why it exists: the real provider (github.com/pulumi/pulumi-random/provider/v4, a Terraform bridge of
// hashicorp/terraform-provider-random) and its shim are refused by the Go module proxy these machines reach (403
// "not available" for every version tried), so it cannot be built here. This stand-in serves the Pulumi provider
// protocol for the two resources the program creates, with the real provider's inputs, defaults and lifecycle:
// every input forces a replacement (the Terraform resources mark all of them ForceNew, keepers included), a
// refresh reads back what was made (nothing can drift), the id is "none" as Terraform's is, and the values come
// from crypto/rand. Marking `result`, `bcryptHash`, `base64` and `hex` secret is the Node SDK's doing
// (additionalSecretOutputs in @pulumi/random), so the engine and the state treat them exactly as with the real
// provider. Any other random resource is refused with a message saying so.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Version is set at build time to the version @pulumi/random asks for.
var Version = "0.0.0"

const (
	bytesType    = "random:index/randomBytes:RandomBytes"
	passwordType = "random:index/randomPassword:RandomPassword"
	// Terraform's random_password default special characters.
	defaultSpecial = "!@#$%&*()-_=+[]{}<>:?"
	lowerChars     = "abcdefghijklmnopqrstuvwxyz"
	upperChars     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numericChars   = "0123456789"
)

// inputs of each resource type; all of them force a replacement.
var inputs = map[string][]string{
	bytesType: {"keepers", "length"},
	passwordType: {"keepers", "length", "lower", "minLower", "minNumeric", "minSpecial", "minUpper", "number",
		"numeric", "overrideSpecial", "special", "upper"},
}

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer
}

func main() {
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, &provider{})
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-random: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-random: %v\n", err)
		os.Exit(1)
	}
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: false, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) { return plugin.UnmarshalProperties(s, opts) }
func marshal(m resource.PropertyMap) (*structpb.Struct, error)   { return plugin.MarshalProperties(m, opts) }

func typeOf(urn string) string { return string(resource.URN(urn).Type()) }

func (p *provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

func (p *provider) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true}, nil
}

func (p *provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":"random","version":%q}`, Version)}, nil
}

func (p *provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *provider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	t := typeOf(req.GetUrn())
	if _, ok := inputs[t]; !ok {
		return nil, fmt.Errorf("%s is not served by this test stand-in of the random provider (only %s and %s)",
			t, bytesType, passwordType)
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	length, ok := news["length"]
	if !ok {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "length", Reason: "Missing required argument length"})
	} else if length.IsNumber() && length.NumberValue() < 1 {
		failures = append(failures, &pulumirpc.CheckFailure{Property: "length", Reason: "length must be at least 1"})
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews(), Failures: failures}, nil
}

func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 {
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var replaces []string
	for _, key := range inputs[typeOf(req.GetUrn())] {
		o, n := olds[resource.PropertyKey(key)], news[resource.PropertyKey(key)]
		if n.ContainsUnknowns() || !o.DeepEquals(n) {
			replaces = append(replaces, key)
		}
	}
	if len(replaces) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Replaces: replaces, Diffs: replaces}, nil
}

func boolOr(m resource.PropertyMap, key string, def bool) bool {
	if v, ok := m[resource.PropertyKey(key)]; ok && v.IsBool() {
		return v.BoolValue()
	}
	return def
}

func intOr(m resource.PropertyMap, key string, def int) int {
	if v, ok := m[resource.PropertyKey(key)]; ok && v.IsNumber() {
		return int(v.NumberValue())
	}
	return def
}

func pick(set string) (byte, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
	if err != nil {
		return 0, err
	}
	return set[n.Int64()], nil
}

// password follows Terraform's random_password: the minimums first, the rest from every enabled set, shuffled.
func password(in resource.PropertyMap) (string, error) {
	length := intOr(in, "length", 0)
	special := defaultSpecial
	if v, ok := in["overrideSpecial"]; ok && v.IsString() {
		special = v.StringValue()
	}
	numeric := boolOr(in, "numeric", boolOr(in, "number", true))
	sets := []struct {
		on    bool
		chars string
		min   int
	}{
		{boolOr(in, "lower", true), lowerChars, intOr(in, "minLower", 0)},
		{boolOr(in, "upper", true), upperChars, intOr(in, "minUpper", 0)},
		{numeric, numericChars, intOr(in, "minNumeric", 0)},
		{boolOr(in, "special", true), special, intOr(in, "minSpecial", 0)},
	}
	var all string
	var out []byte
	for _, s := range sets {
		if !s.on || s.chars == "" {
			continue
		}
		all += s.chars
		for i := 0; i < s.min; i++ {
			c, err := pick(s.chars)
			if err != nil {
				return "", err
			}
			out = append(out, c)
		}
	}
	if all == "" {
		return "", fmt.Errorf("at least one of lower, upper, numeric and special must be true")
	}
	for len(out) < length {
		c, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func (p *provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	in, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	out := in.Copy()
	unknown := resource.MakeComputed(resource.NewStringProperty(""))
	switch typeOf(req.GetUrn()) {
	case bytesType:
		if req.GetPreview() {
			out["base64"], out["hex"] = unknown, unknown
			break
		}
		buf := make([]byte, intOr(in, "length", 0))
		if _, err := rand.Read(buf); err != nil {
			return nil, err
		}
		out["base64"] = resource.NewStringProperty(base64.StdEncoding.EncodeToString(buf))
		out["hex"] = resource.NewStringProperty(hex.EncodeToString(buf))
	case passwordType:
		for key, def := range map[string]bool{"lower": true, "upper": true, "numeric": true, "number": true, "special": true} {
			out[resource.PropertyKey(key)] = resource.NewBoolProperty(boolOr(in, key, def))
		}
		for _, key := range []string{"minLower", "minNumeric", "minSpecial", "minUpper"} {
			out[resource.PropertyKey(key)] = resource.NewNumberProperty(float64(intOr(in, key, 0)))
		}
		if req.GetPreview() {
			out["result"], out["bcryptHash"] = unknown, unknown
			break
		}
		result, err := password(in)
		if err != nil {
			return nil, err
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(result), bcrypt.DefaultCost)
		if err != nil {
			return nil, err
		}
		out["result"] = resource.NewStringProperty(result)
		out["bcryptHash"] = resource.NewStringProperty(string(hash))
	}
	props, err := marshal(out)
	if err != nil {
		return nil, err
	}
	id := "none"
	if req.GetPreview() {
		id = ""
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Read returns what was made: nothing outside the state can change a random value.
func (p *provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	keys := make([]string, 0)
	for key := range req.GetNews().GetFields() {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return nil, fmt.Errorf("random resources are replaced, never updated (inputs %v)", keys)
}

func (p *provider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
