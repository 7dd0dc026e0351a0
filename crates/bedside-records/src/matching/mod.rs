//! Patient matching (record linkage): comparators, EM-estimated weights, blocking, clusters.
