# Sourced by ./hmm4j, ./verify and .ci/run: selects a JDK 21+ and exports JAVA_HOME.
# Order: $JAVA_HOME if it is 21+, else `java` on the PATH if it is 21+, else the
# newest JDK under /usr/lib/jvm. Prints one error line and returns 1 otherwise.

hmm4j_java_major() {
  # $1: path to a java binary; prints its feature version (17, 21, 25, ...) or nothing.
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n 1
}

hmm4j_find_jdk() {
  local v candidate best="" best_v=0
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    v=$(hmm4j_java_major "$JAVA_HOME/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then export JAVA_HOME; return 0; fi
  fi
  if command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1; then
    candidate=$(readlink -f "$(command -v javac)")
    candidate=${candidate%/bin/javac}
    v=$(hmm4j_java_major "$candidate/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then export JAVA_HOME="$candidate"; return 0; fi
  fi
  for candidate in /usr/lib/jvm/*; do
    [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    v=$(hmm4j_java_major "$candidate/bin/java")
    if [ -n "$v" ] && [ "$v" -gt "$best_v" ]; then best_v=$v; best=$candidate; fi
  done
  if [ -n "$best" ] && [ "$best_v" -ge 21 ]; then export JAVA_HOME="$best"; return 0; fi
  echo "hmm4j: no JDK 21 or newer found (checked \$JAVA_HOME, java on the PATH, /usr/lib/jvm); install one or set JAVA_HOME" >&2
  return 1
}
