package config

// EditHCL is the in-place edit of UpdateFile for another program's HCL
// file (the vault CLI's ~/.vault): the settings' top-level attributes
// replaced or appended, everything else kept, and no check against
// alilogin's own schema. A file that is not HCL is an error.
func EditHCL(path string, src []byte, settings ...Setting) ([]byte, error) {
	out, err := setAttributes(path, src, settings...)
	if err != nil {
		return nil, err
	}
	if len(src) == 0 {
		// setAttributes starts a new file with alilogin's own header.
		out = out[len(newFileHeader):]
	}
	return out, nil
}
