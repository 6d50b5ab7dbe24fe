#include "broker/global_parameters.h"

#include <nlohmann/json.hpp>

namespace pulse::broker {

Status GlobalParameters::validate(const std::string& name, const std::string& value_json) {
  auto j = nlohmann::json::parse(value_json, nullptr, false);
  if (j.is_discarded()) return Error{400, "global parameter '" + name + "': not JSON"};
  if (name == kClusterName && !j.is_string())
    return Error{400, "global parameter 'cluster_name' must be a string"};
  return {};
}

bool GlobalParameters::set(const std::string& name, std::string value_json) {
  auto [it, created] = values_.insert_or_assign(name, std::move(value_json));
  refresh(name);
  return created;
}

bool GlobalParameters::clear(const std::string& name) {
  if (values_.erase(name) == 0) return false;
  refresh(name);
  return true;
}

const std::string* GlobalParameters::find(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second;
}

const std::string& GlobalParameters::cluster_name() const {
  return has_cluster_name_ ? cluster_name_ : default_cluster_name_;
}

// The two parameters the node reads are decoded once per change, not per handshake.
void GlobalParameters::refresh(const std::string& name) {
  auto decode = [&](std::string& out) {
    const std::string* text = find(name);
    if (text == nullptr) return false;
    auto j = nlohmann::json::parse(*text, nullptr, false);
    out = j.is_string() ? j.get<std::string>() : (j.is_discarded() ? *text : j.dump());
    return true;
  };
  if (name == kClusterName) {
    has_cluster_name_ = decode(cluster_name_);
    if (!has_cluster_name_) cluster_name_.clear();
  } else if (name == kInternalClusterId) {
    if (!decode(internal_cluster_id_)) internal_cluster_id_.clear();
  }
}

}  // namespace pulse::broker
