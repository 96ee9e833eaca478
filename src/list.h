/* SPDX-License-Identifier: MIT */
/*
 * list: an intrusive doubly linked list with a sentinel head (the Linux
 * list_head idea, cut down). A node is zero (calloc) or unlinked until
 * list_add(); list_unlink() is safe on either.
 */
#ifndef IMLAB_LIST_H
#define IMLAB_LIST_H

#include <stddef.h>

struct list {
	struct list *prev, *next;	/* NULL when not on a list */
};

/* Makes head an empty list; list_empty(head) is then 1. */
static inline void
list_init(struct list *head)
{
	head->prev = head->next = head;
}

static inline int
list_empty(const struct list *head)
{
	return head->next == head;
}

/* Returns 1 if node is on a list. */
static inline int
list_linked(const struct list *node)
{
	return node->next != NULL;
}

/* Puts node (not on a list) first in head's list. */
static inline void
list_add(struct list *head, struct list *node)
{
	node->prev = head;
	node->next = head->next;
	head->next->prev = node;
	head->next = node;
}

/* Takes node off its list if it is on one; returns 1 if it was. */
static inline int
list_unlink(struct list *node)
{
	if (!node->next)
		return 0;
	node->prev->next = node->next;
	node->next->prev = node->prev;
	node->prev = node->next = NULL;
	return 1;
}

/* The struct of type holding node as its member. */
#define list_entry(node, type, member) \
	((type *)(void *)((char *)(node) - offsetof(type, member)))

/* Walks head's list, pos each node; pos may be unlinked in the body. */
#define list_for_each_safe(pos, n, head) \
	for ((pos) = (head)->next, (n) = (pos)->next; (pos) != (head); \
	     (pos) = (n), (n) = (pos)->next)

#endif
