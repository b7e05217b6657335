package discord

import "strings"

//go:generate go run zones_gen.go

// popularZones are offered before anything is typed.
var popularZones = []string{
	"UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Istanbul", "Europe/Moscow",
	"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto",
	"America/Mexico_City", "America/Sao_Paulo", "Africa/Lagos", "Africa/Johannesburg", "Asia/Dubai",
	"Asia/Kolkata", "Asia/Singapore", "Asia/Manila", "Asia/Jakarta", "Asia/Shanghai", "Asia/Tokyo",
	"Australia/Sydney", "Pacific/Auckland",
}

// matchZones suggests up to n zone names for what someone typed: first a
// name that matches exactly, then cities that start with it, then names
// that contain it. Case, spaces and underscores do not matter.
func matchZones(query string, n int) []string {
	q := zoneKey(query)
	if q == "" {
		return popularZones[:min(n, len(popularZones))]
	}
	var exact, prefix, contains []string
	for _, z := range zoneNames {
		k := zoneKey(z)
		city := k[strings.LastIndexByte(k, '/')+1:]
		switch {
		case k == q:
			exact = append(exact, z)
		case strings.HasPrefix(city, q) || strings.HasPrefix(k, q):
			prefix = append(prefix, z)
		case strings.Contains(k, q):
			contains = append(contains, z)
		}
	}
	out := append(append(exact, prefix...), contains...)
	return out[:min(n, len(out))]
}

func zoneKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}
