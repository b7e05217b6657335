package bot

import (
	"encoding/json"
	"fmt"
)

func marshalExport(x Export) ([]byte, error) {
	data, err := json.MarshalIndent(x, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode export: %w", err)
	}
	return append(data, '\n'), nil
}
