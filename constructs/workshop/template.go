package workshop

import (
	"bytes"
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// TemplateYAML renders a synthesized CloudFormation template (JSON, as the
// cloud assembly holds it) as YAML for the CloudFormation console. It keeps
// the key order CDK wrote, uses block style throughout, and quotes a string
// wherever YAML would otherwise read it as another type, so the document means
// exactly what the JSON means. The same input always gives the same bytes.
func TemplateYAML(templateJSON []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(templateJSON, &doc); err != nil {
		return nil, fmt.Errorf("reading template JSON: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("reading template JSON: not a JSON object")
	}
	blockStyle(&doc)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("writing template YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing template YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// blockStyle clears the flow and quoting styles that JSON syntax gives every
// node. A scalar keeps its resolved tag, so the encoder still quotes a string
// such as "true" or "2012-10-17" that would otherwise change type; strings that
// only a YAML 1.1 parser reads as another type ("yes", "off", "1:30") are
// quoted here, since CloudFormation's parser is not documented as YAML 1.2.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && yaml11NonString.MatchString(n.Value) {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// yaml11NonString matches the plain scalars that YAML 1.1 resolves to a
// boolean or a base-60 number but YAML 1.2 reads as strings.
var yaml11NonString = regexp.MustCompile(`^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?)$`)
