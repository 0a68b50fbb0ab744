package e2e

import (
	"os"
	"testing"

	"github.com/alisw/alilogin/internal/teststack"
)

var stack *teststack.Stack

func TestMain(m *testing.M) {
	os.Exit(teststack.Main(m, teststack.Options{NoHydra: true, NoKeyring: true}, &stack))
}
