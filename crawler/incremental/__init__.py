"""What an incremental crawl knows before it fetches: the articles stored (`state`) and how each category's last walk ended (`walks`)."""
