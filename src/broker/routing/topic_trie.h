#pragma once
// AMQP topic matching as RabbitMQ 3.x does it: routing keys and binding patterns are words
// separated by '.', where a pattern word "*" matches exactly one word and "#" matches zero or
// more. Words may be empty ("a..b" is three words, "a." two); the empty string is zero words, so
// it is matched by "" and "#" but not by "*". No regex.
//
// Matching simulates the pattern trie as an NFA, one routing-key word at a time, with the active
// node set deduplicated after every word. That keeps "#.#.#..." patterns linear in the key length
// instead of exponential, and uses thread-local scratch so a match allocates nothing beyond the
// growth of `out` once warmed up.
#include <algorithm>
#include <concepts>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pulse::broker {

// Calls f(word) for each dot-separated word of s, following RabbitMQ's split_topic_key:
// "" has no words, every '.' separates two (possibly empty) words.
template <typename F>
void for_each_topic_word(std::string_view s, F&& f) {
  if (s.empty()) return;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (dot == std::string_view::npos) {
      f(s.substr(start));
      return;
    }
    f(s.substr(start, dot - start));
    start = dot + 1;
  }
}

// Dest is a binding destination (queue or exchange id, pointer, name). It must be ordered so
// that match() can report each destination once by sorting instead of hashing.
template <typename Dest>
requires std::totally_ordered<Dest> && std::copyable<Dest>
class TopicTrie {
 public:
  TopicTrie() = default;
  TopicTrie(const TopicTrie&) = delete;
  TopicTrie& operator=(const TopicTrie&) = delete;
  TopicTrie(TopicTrie&&) noexcept = default;
  TopicTrie& operator=(TopicTrie&&) noexcept = default;

  // Adds pattern → dest. Adding the same pair again is counted (two bindings may differ only in
  // their arguments), and each add is undone by one remove.
  void add(std::string_view pattern, const Dest& dest) {
    Node* n = root_.get();
    for_each_topic_word(pattern, [&n](std::string_view w) { n = n->child_or_create(w); });
    for (auto& [d, count] : n->dests) {
      if (d == dest) {
        ++count;
        ++bindings_;
        return;
      }
    }
    n->dests.emplace_back(dest, 1);
    ++bindings_;
  }

  // Removes one pattern → dest binding; false if there was none. Nodes left without bindings or
  // children are freed, so the trie does not grow with churn.
  bool remove(std::string_view pattern, const Dest& dest) {
    std::vector<std::string_view> words;
    for_each_topic_word(pattern, [&words](std::string_view w) { words.push_back(w); });
    if (!remove_from(*root_, words, 0, dest)) return false;
    --bindings_;
    return true;
  }

  // Appends every destination whose pattern matches routing_key to out, each once, in ascending
  // order (entries already in out are left alone and not deduplicated against).
  void match(std::string_view routing_key, std::vector<Dest>& out) const {
    Scratch& s = scratch();
    s.cur.clear();
    add_closure(s.cur, root_.get());
    bool alive = true;
    for_each_topic_word(routing_key, [&](std::string_view w) {
      if (!alive) return;
      s.next.clear();
      for (const Node* n : s.cur) {
        if (n->is_hash) s.next.push_back(n);  // '#' absorbs this word too
        if (const Node* c = n->find(w)) add_closure(s.next, c);
        if (n->star) add_closure(s.next, n->star.get());
      }
      std::sort(s.next.begin(), s.next.end());
      s.next.erase(std::unique(s.next.begin(), s.next.end()), s.next.end());
      s.cur.swap(s.next);
      alive = !s.cur.empty();
    });
    const size_t first = out.size();
    for (const Node* n : s.cur)
      for (const auto& [d, count] : n->dests) out.push_back(d);
    // Several patterns may name the same destination; report it once.
    std::sort(out.begin() + first, out.end());
    out.erase(std::unique(out.begin() + first, out.end()), out.end());
  }

  // Number of bindings, counting repeated adds of the same pair.
  size_t size() const { return bindings_; }
  bool empty() const { return bindings_ == 0; }

 private:
  struct WordHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  struct Node {
    // Literal words. "*" and "#" never appear here: as pattern words they are wildcards, and a
    // routing-key word "*" or "#" matching them literally is already covered by the wildcards.
    std::unordered_map<std::string, std::unique_ptr<Node>, WordHash, std::equal_to<>> words;
    std::unique_ptr<Node> star;
    std::unique_ptr<Node> hash;
    bool is_hash = false;  // reached through a '#' edge, so it may consume further words
    std::vector<std::pair<Dest, uint32_t>> dests;

    const Node* find(std::string_view w) const {
      auto it = words.find(w);
      return it == words.end() ? nullptr : it->second.get();
    }
    Node* child_or_create(std::string_view w) {
      std::unique_ptr<Node>* slot;
      if (w == "*") {
        slot = &star;
      } else if (w == "#") {
        slot = &hash;
      } else {
        auto it = words.find(w);
        if (it == words.end()) it = words.emplace(std::string(w), nullptr).first;
        slot = &it->second;
      }
      if (!*slot) {
        *slot = std::make_unique<Node>();
        (*slot)->is_hash = (w == "#");
      }
      return slot->get();
    }
    std::unique_ptr<Node>* slot_for(std::string_view w) {
      if (w == "*") return &star;
      if (w == "#") return &hash;
      auto it = words.find(w);
      return it == words.end() ? nullptr : &it->second;
    }
    bool unused() const { return dests.empty() && words.empty() && !star && !hash; }
  };

  struct Scratch {
    std::vector<const Node*> cur;
    std::vector<const Node*> next;
  };

  static Scratch& scratch() {
    thread_local Scratch s;
    return s;
  }

  // A node is active together with its '#' children, since '#' may match zero words.
  static void add_closure(std::vector<const Node*>& v, const Node* n) {
    for (; n != nullptr; n = n->hash.get()) v.push_back(n);
  }

  static bool remove_from(Node& n, const std::vector<std::string_view>& words, size_t i,
                          const Dest& dest) {
    if (i == words.size()) {
      for (auto it = n.dests.begin(); it != n.dests.end(); ++it) {
        if (it->first == dest) {
          if (--it->second == 0) n.dests.erase(it);
          return true;
        }
      }
      return false;
    }
    std::unique_ptr<Node>* slot = n.slot_for(words[i]);
    if (slot == nullptr || !*slot) return false;
    if (!remove_from(**slot, words, i + 1, dest)) return false;
    if ((*slot)->unused()) {
      if (words[i] == "*" || words[i] == "#") {
        slot->reset();
      } else {
        n.words.erase(n.words.find(words[i]));
      }
    }
    return true;
  }

  std::unique_ptr<Node> root_ = std::make_unique<Node>();
  size_t bindings_ = 0;
};

}  // namespace pulse::broker
