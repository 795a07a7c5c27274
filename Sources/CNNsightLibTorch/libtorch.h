// Intentionally empty: libtorch's headers are C++ and are included by the CNNsightTorch shim only.
// This module exists so that SwiftPM reads libtorch's pkg-config file.
