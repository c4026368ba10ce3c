package hmm4j.sim;

/** How a lock is held: exclusively (write, mutex, spinlock) or shared (read). */
public enum LockMode { EXCLUSIVE, SHARED }
