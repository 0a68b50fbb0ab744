package config

import (
	"errors"
	"fmt"
)

// Sources are the inputs of Resolve.
type Sources struct {
	// Flags is the command-line layer (zero fields = not given).
	Flags Config
	// Getenv reads the environment; nil means an empty environment.
	Getenv func(string) string
	// Discover, when set and a broker URL is configured, fetches the
	// broker's discovery document as a layer just above the defaults.
	Discover func(broker string) (Config, error)
}

// Resolve builds the configuration from flags > environment > config file >
// discovery > defaults. It does not validate: commands that need a complete
// configuration call Validate.
func Resolve(s Sources) (*Config, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	env := FromEnv(getenv)
	path, err := Path(getenv)
	if err != nil {
		return nil, err
	}
	file, pos, err := loadFile(path)
	if err != nil {
		return nil, err
	}
	insecure := file.InsecureHTTP || env.InsecureHTTP || s.Flags.InsecureHTTP
	if _, err := insecureFromEnv(getenv); err != nil {
		return nil, err
	}
	if err := errors.Join(checkLayer(&file, pos.where(path), insecure), checkLayer(&env, envWhere, insecure),
		checkLayer(&s.Flags, flagWhere, insecure)); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	upper := Config{}
	overlay(&upper, file)
	overlay(&upper, env)
	overlay(&upper, s.Flags)

	c := Defaults()
	if upper.Broker != "" && s.Discover != nil {
		d, err := s.Discover(upper.Broker)
		if err != nil {
			return nil, fmt.Errorf("could not read the discovery document of the broker at %s: %w", upper.Broker, err)
		}
		// The document cannot opt in to plain HTTP, only the user can.
		d.InsecureHTTP = false
		if err := checkLayer(&d, discoveryWhere(upper.Broker), insecure); err != nil {
			return nil, fmt.Errorf("invalid configuration: %w", err)
		}
		overlay(&c, d)
	}
	overlay(&c, upper)
	return &c, nil
}
