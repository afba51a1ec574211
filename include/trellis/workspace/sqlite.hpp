// A thin RAII layer over SQLite's C API: a connection, prepared statements with typed binds and
// columns, and transactions that roll back unless committed. Every error names the database
// file and what was being done, with SQLite's own message.
#pragma once
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "trellis/workspace/error.hpp"

namespace trellis::workspace {

class statement;

class database {
 public:
  /// Opens (creating if needed) `file` in WAL mode, with foreign keys on and a busy timeout, so
  /// that processes sharing the workspace wait for each other's writes instead of failing.
  explicit database(const std::filesystem::path& file,
                    std::chrono::milliseconds busy_timeout = std::chrono::seconds(30))
      : file_{file.string()} {
    if (sqlite3_open_v2(file_.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw database_error(fmt::format("workspace database '{}': cannot open: {}", file_, why));
    }
    sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
    // WAL: readers never block the one writer. NORMAL: a commit survives a crash of this
    // process (kill -9); only a power loss may undo the last commits, never corrupt the file.
    use_wal(busy_timeout);
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
  }
  ~database() { sqlite3_close(db_); }
  database(const database&) = delete;
  database& operator=(const database&) = delete;

  /// Runs one or more statements that return no rows.
  void exec(std::string_view sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, std::string{sql}.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      const std::string why = message ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      fail(fmt::format("'{}'", first_line(sql)), why);
    }
  }

  [[nodiscard]] statement prepare(std::string_view sql);

  [[nodiscard]] std::int64_t changes() const { return sqlite3_changes(db_); }
  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] sqlite3* handle() const { return db_; }

  [[noreturn]] void fail(std::string_view doing, std::string_view why) const {
    throw database_error(fmt::format("workspace database '{}': {} failed: {}", file_, doing, why));
  }

 private:
  static std::string_view first_line(std::string_view sql) {
    while (!sql.empty() && (sql.front() == ' ' || sql.front() == '\n')) sql.remove_prefix(1);
    return sql.substr(0, std::min(sql.find('\n'), std::size_t{60}));
  }

  /// Turning a new file to WAL needs an exclusive lock, for which SQLite's busy handler does not
  /// wait (it would risk a deadlock): when several processes create one workspace at once, the
  /// others retry here until the first is done, within the busy timeout.
  void use_wal(std::chrono::milliseconds busy_timeout) {
    const auto deadline = std::chrono::steady_clock::now() + busy_timeout;
    for (;;) {
      const int rc = sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
      if (rc == SQLITE_OK) return;
      if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) ||
          std::chrono::steady_clock::now() >= deadline)
        fail("'PRAGMA journal_mode=WAL'", sqlite3_errmsg(db_));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  std::string file_;
  sqlite3* db_ = nullptr;
};

/// A prepared statement: bind by position (from 1), step through rows, read columns (from 0).
class statement {
 public:
  statement(database& db, std::string_view sql) : db_{&db}, sql_{sql} {
    if (sqlite3_prepare_v2(db.handle(), sql_.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
      db.fail(fmt::format("preparing '{}'", sql_), sqlite3_errmsg(db.handle()));
  }
  ~statement() { sqlite3_finalize(stmt_); }
  statement(statement&& other) noexcept
      : db_{other.db_}, sql_{std::move(other.sql_)}, stmt_{std::exchange(other.stmt_, nullptr)} {}
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  statement& operator=(statement&&) = delete;

  statement& bind(int i, std::int64_t v) { return check(sqlite3_bind_int64(stmt_, i, v)); }
  statement& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  statement& bind(int i, std::size_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  statement& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  statement& bind(int i, double v) { return check(sqlite3_bind_double(stmt_, i, v)); }
  statement& bind(int i, std::string_view v) {
    return check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                                   SQLITE_TRANSIENT));
  }
  statement& bind(int i, const char* v) { return bind(i, std::string_view{v}); }
  statement& bind(int i, const std::string& v) { return bind(i, std::string_view{v}); }
  statement& bind(int i, std::nullopt_t) { return check(sqlite3_bind_null(stmt_, i)); }
  template <class T>
  statement& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind(i, std::nullopt);
  }

  /// Binds every argument in order, from position 1.
  template <class... Ts>
  statement& bind_all(const Ts&... values) {
    int i = 0;
    (bind(++i, values), ...);
    return *this;
  }

  /// Advances to the next row; false when there is none (the statement is done).
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_->fail(fmt::format("'{}'", sql_), sqlite3_errmsg(db_->handle()));
  }
  /// Runs a statement that returns no rows.
  void run() {
    while (step()) {
    }
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  [[nodiscard]] bool is_null(int col) const {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }
  [[nodiscard]] std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  [[nodiscard]] double real(int col) const { return sqlite3_column_double(stmt_, col); }
  [[nodiscard]] std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string{reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))}
             : std::string{};
  }
  [[nodiscard]] std::optional<std::int64_t> optional_integer(int col) const {
    return is_null(col) ? std::nullopt : std::optional{integer(col)};
  }
  [[nodiscard]] std::optional<double> optional_real(int col) const {
    return is_null(col) ? std::nullopt : std::optional{real(col)};
  }

 private:
  statement& check(int rc) {
    if (rc != SQLITE_OK)
      db_->fail(fmt::format("binding a value of '{}'", sql_), sqlite3_errmsg(db_->handle()));
    return *this;
  }

  database* db_;
  std::string sql_;
  sqlite3_stmt* stmt_ = nullptr;
};

inline statement database::prepare(std::string_view sql) { return statement{*this, sql}; }

/// BEGIN IMMEDIATE: takes the write lock at once (waiting up to the busy timeout), so two
/// writers never both read a state and then collide on writing it. Rolls back unless committed.
class transaction {
 public:
  explicit transaction(database& db) : db_{db} { db_.exec("BEGIN IMMEDIATE"); }
  ~transaction() {
    if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  void commit() {
    db_.exec("COMMIT");
    done_ = true;
  }

 private:
  database& db_;
  bool done_ = false;
};

}  // namespace trellis::workspace
