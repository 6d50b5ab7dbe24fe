#pragma once
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility> (GCC 12, C++20).
#include <utility>
// clang-format off
#include <boost/asio.hpp>
// clang-format on
