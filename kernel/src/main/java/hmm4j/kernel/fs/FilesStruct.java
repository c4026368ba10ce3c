package hmm4j.kernel.fs;

import hmm4j.kernel.mm.Errno;
import hmm4j.sim.Task;
import hmm4j.sim.TaskKey;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The descriptor table of a task ({@code struct files_struct}, fs/file.c): the open files a
 * process's descriptors name, each holding one reference to its file.
 *
 * <p>Overview. A task gets a table when it first installs a file ({@link #fdInstall}, as
 * {@code open} does). {@code fork} gives the child a copy ({@link #dupFd}, {@code dup_fd}):
 * every descriptor is duplicated and takes its own reference ({@code get_file}), so a child's
 * {@code close} drops only the child's reference. Threads made with {@code CLONE_FILES} share
 * the table ({@link #share}). {@link #exitFiles} ({@code exit_files}) drops the task's use of
 * the table; the last user closes every descriptor left. The last {@code fput} of a file, by
 * whichever task, runs its release.
 *
 * <p>Locking. The kernel guards the descriptors with {@code files->file_lock}; the model makes
 * each table operation one atomic step of a copy-on-write list instead, without a scheduling
 * point, so that opening and closing files does not move the interleavings of the scenarios
 * (nothing in the model races on a table but the tasks sharing it, and no lock order involves
 * {@code file_lock}). {@code fput} runs after the descriptor is gone, since a release may
 * sleep. The count of users is atomic.
 *
 * <p>Differences from the kernel: descriptors are the file objects themselves, not numbers (a
 * table may hold one file more than once); there is no {@code fdtable} resizing, no RCU lookup
 * and no close-on-exec.
 */
public final class FilesStruct {
    /** {@code tsk->files}: the table of a task, or unset when it never opened a file. */
    public static final TaskKey<FilesStruct> TASK_FILES = new TaskKey<>("tsk->files");

    private final List<FileRef> fds = new CopyOnWriteArrayList<>();
    private final AtomicInteger count = new AtomicInteger(1);

    private FilesStruct() {
    }

    /** The table of {@code task}, or null when it has none. */
    public static FilesStruct of(Task task) {
        return task == null ? null : task.get(TASK_FILES);
    }

    private static FilesStruct ofOrCreate(Task task) {
        FilesStruct files = of(task);
        if (files == null) {
            files = new FilesStruct();
            task.set(TASK_FILES, files);
        }
        return files;
    }

    /**
     * {@code fd_install}: a new descriptor of {@code task} names {@code file}; the descriptor
     * takes over the reference the caller holds (the one {@code open} made).
     */
    public static void fdInstall(Task task, FileRef file) {
        FilesStruct files = ofOrCreate(task);
        files.fds.add(file);
    }

    /**
     * {@code close(fd)} by {@code task}: removes one descriptor naming {@code file} from its
     * table and drops that descriptor's reference (the release runs if it was the last).
     *
     * @return 0, or {@code -EBADF} when no descriptor of {@code task} names {@code file}
     */
    public static int closeFd(Task task, FileRef file) {
        FilesStruct files = of(task);
        if (files == null || !files.fds.remove(file)) {
            return -Errno.EBADF;
        }
        file.fput();
        return 0;
    }

    /** True if a descriptor of {@code task} names {@code file} (no scheduling point: checks and tests). */
    public static boolean holds(Task task, FileRef file) {
        FilesStruct files = of(task);
        if (files == null) {
            return false;
        }
        return files.fds.contains(file);
    }

    /** The number of descriptors of {@code task} (no scheduling point: checks and tests). */
    public static int descriptors(Task task) {
        FilesStruct files = of(task);
        if (files == null) {
            return 0;
        }
        return files.fds.size();
    }

    /**
     * {@code dup_fd} at {@code fork}: a copy of {@code parent}'s table in which every
     * descriptor holds a reference of its own; null if the parent has no table.
     */
    public static FilesStruct dupFd(Task parent) {
        FilesStruct old = of(parent);
        if (old == null) {
            return null;
        }
        FilesStruct copy = new FilesStruct();
        for (FileRef f : old.fds) {
            f.getFile();
            copy.fds.add(f);
        }
        return copy;
    }

    /** Makes {@code files} (from {@link #dupFd}, may be null) the new task {@code child}'s table. */
    public static void adopt(Task child, FilesStruct files) {
        if (files != null) {
            child.set(TASK_FILES, files);
        }
    }

    /**
     * {@code CLONE_FILES}: the new task {@code child} shares {@code parent}'s table (created
     * now if the parent has none, so that files either opens later are seen by both).
     */
    public static void share(Task parent, Task child) {
        FilesStruct files = ofOrCreate(parent);
        files.count.incrementAndGet();
        child.set(TASK_FILES, files);
    }

    /**
     * {@code exit_files}: {@code task} stops using its table; when it was the last user, every
     * descriptor left is closed, in the order they were opened. May sleep (a release).
     */
    public static void exitFiles(Task task) {
        FilesStruct files = of(task);
        if (files == null) {
            return;
        }
        task.set(TASK_FILES, null);
        if (files.count.decrementAndGet() != 0) {
            return;
        }
        List<FileRef> left = List.copyOf(files.fds);
        files.fds.removeAll(left);
        for (FileRef f : left) {
            f.fput();
        }
    }
}
