#pragma once
// How a scored group of an attack record was calibrated (results.h5's `calibration` attribute), named once for
// the jobs that write the groups and the report that orders and labels them.
#include <array>
#include <string_view>

namespace ganleaks::membership::calibration {

inline constexpr std::string_view kNone = "none";            // the raw scores
inline constexpr std::string_view kReference = "reference";  // GAN-Leaks' reference model G_r (Sec. 5.6)
inline constexpr std::string_view kLiraOnline = "lira-online";
inline constexpr std::string_view kLiraOffline = "lira-offline";
inline constexpr std::string_view kRmiaOnline = "rmia-online";
inline constexpr std::string_view kRmiaOffline = "rmia-offline";
// In the report's order, from none to the shadow-model attacks.
inline constexpr std::array<std::string_view, 6> kAll{kNone, kReference, kLiraOnline, kLiraOffline, kRmiaOnline,
                                                      kRmiaOffline};

}  // namespace ganleaks::membership::calibration
