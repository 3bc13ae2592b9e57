package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"

	"github.com/pelletier/go-toml/v2"
)

// DriverSettings returns the decoder a driver's factory uses for its own
// table, [drivers.NAME] (shim.DriverConfig.Settings). It decodes the
// table into v, a pointer to a struct, as strictly as the rest of the
// file: an unknown key is an error with its line. Keys the table leaves
// out keep the values v already holds. A config not read from a file
// (Default) has no tables, and the decoder leaves v alone.
func (c *Config) DriverSettings(name string) func(v any) error {
	file, raw := c.File, c.raw
	return func(v any) error {
		if raw == nil {
			return nil
		}
		return decodeDriver(file, raw, name, v)
	}
}

// decodeDriver decodes the whole file into a document whose only field is
// drivers.NAME, pointing at v, and keeps the unknown keys found inside
// that table: every other key of the file is some other part's business.
func decodeDriver(file string, raw []byte, name string, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("config: settings of driver %q: want a pointer to a struct, got %T", name, v)
	}
	if !driverName(name) {
		return fmt.Errorf("config: driver name %q: use letters, digits, _ and -", name)
	}
	table := reflect.StructOf([]reflect.StructField{{
		Name: "Table", Type: rv.Type(), Tag: reflect.StructTag(`toml:"` + name + `"`),
	}})
	doc := reflect.New(reflect.StructOf([]reflect.StructField{{
		Name: "Drivers", Type: table, Tag: `toml:"drivers"`,
	}}))
	doc.Elem().Field(0).Field(0).Set(rv)
	err := toml.NewDecoder(bytes.NewReader(raw)).DisallowUnknownFields().Decode(doc.Interface())
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var mine []toml.DecodeError
		for _, e := range strict.Errors {
			if k := e.Key(); len(k) > 2 && k[0] == "drivers" && k[1] == name {
				mine = append(mine, e)
			}
		}
		if len(mine) == 0 {
			return nil
		}
		err = &toml.StrictMissingError{Errors: mine}
	}
	if err != nil {
		return decodeError(file, err)
	}
	return nil
}

// driverName reports whether s can name a driver table: [A-Za-z0-9_-]+.
func driverName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}
