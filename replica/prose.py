"""The replica's prose: news sentences that do not repeat from article to article, and routine notices that do.

Real articles share little text unless one copies another; routine notices (a weekly reception
schedule, a wanted-person notice, a list of traffic fines) share most of theirs and differ in
dates, names and figures. The generator keeps both true, so repost detection is measured on
text that behaves like the portals' (`replica.corpus` plants the reposts and the look-alikes).
Every fixed run of words in a sentence pattern is shorter than the five-word shingles reposts
are compared by; what two unrelated articles share comes only from the same picks side by side.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

ORGS = ["Công an thành phố", "UBND thành phố", "Ban Chỉ đạo 799 thành phố", "Công an quận Hải An", "Sở Giao thông vận tải",
        "Hội Liên hiệp phụ nữ thành phố", "Thành đoàn Hải Phòng", "Công an huyện Thủy Nguyên", "Sở Văn hóa và Thể thao",
        "Bộ đội Biên phòng thành phố", "Công an phường Đông Hải 1", "Hội Cựu chiến binh thành phố", "Sở Y tế",
        "Công an quận Lê Chân", "Phòng Cảnh sát giao thông", "Sở Tài nguyên và Môi trường", "Công an huyện An Dương",
        "Ủy ban MTTQ Việt Nam thành phố", "Sở Lao động - Thương binh và Xã hội", "Công an quận Ngô Quyền",
        "Phòng Cảnh sát phòng cháy chữa cháy", "Ban An toàn giao thông thành phố", "Công an huyện Vĩnh Bảo",
        "Sở Công Thương", "Liên đoàn Lao động thành phố", "Công an quận Kiến An", "Hội Nông dân thành phố"]
PLACES = ["phường Lê Chân", "quận Ngô Quyền", "huyện An Dương", "huyện Tiên Lãng", "quận Đồ Sơn", "huyện Vĩnh Bảo",
          "quận Kiến An", "huyện Cát Hải", "phường Cát Bi", "xã Tân Trào", "phường Đằng Giang", "xã Lại Xuân",
          "phường Vạn Mỹ", "thị trấn Núi Đèo", "xã An Hồng", "phường Hùng Vương", "xã Kiền Bái", "phường Máy Chai",
          "xã Đại Hợp", "phường Tràng Cát", "khu công nghiệp Đình Vũ", "cảng Lạch Huyện", "chợ Sắt", "bến xe Cầu Rào",
          "xã Quang Trung", "phường Dư Hàng Kênh", "xã Thủy Triều", "phường Anh Dũng", "xã Bạch Đằng", "đảo Bạch Long Vĩ"]
VERBS = ["tổ chức", "triển khai", "ra mắt", "sơ kết", "tổng kết", "phát động", "kiểm tra", "tăng cường", "khen thưởng",
         "ký kết", "tập huấn", "đẩy mạnh", "phối hợp", "tiếp nhận", "phát hiện", "xử lý", "tuyên truyền", "hướng dẫn",
         "vận động", "rà soát", "chỉ đạo", "đánh giá", "hoàn thành", "duy trì", "nhân rộng", "khảo sát"]
TOPICS = ["phong trào toàn dân bảo vệ ANTQ", "trật tự an toàn giao thông", "cao điểm trấn áp tội phạm", "phòng chống dịch bệnh",
          "nếp sống văn hóa", "phòng cháy chữa cháy", "cải cách hành chính", "chuyển đổi số", "phòng chống ma túy",
          "an ninh biên giới", "camera an ninh", "tuyên truyền pháp luật", "cấp căn cước", "đề án 06", "an toàn thực phẩm",
          "buôn lậu gian lận thương mại", "tín dụng đen", "lừa đảo qua mạng", "vi phạm nồng độ cồn", "khai thác cát trái phép",
          "đua xe trái phép", "bạo lực học đường", "quản lý cư trú", "vệ sinh môi trường", "an toàn lao động", "xây dựng nông thôn mới"]
ACTIVITIES = ["đợt cao điểm", "chuyên đề", "chiến dịch", "buổi tuyên truyền", "cuộc kiểm tra", "hội thi", "diễn tập",
              "lớp tập huấn", "buổi làm việc", "đợt ra quân", "hội nghị", "tọa đàm", "chương trình", "mô hình"]
UNITS = ["vụ vi phạm", "đối tượng", "lượt người", "triệu đồng", "phương tiện", "hộ gia đình", "cơ sở kinh doanh",
         "lượt kiểm tra", "tin báo", "tập thể", "cá nhân", "buổi tuyên truyền", "camera", "tài khoản", "học sinh", "tấn hàng"]
RESULTS = ["tạo chuyển biến rõ nét", "được nhân dân đồng tình", "góp phần giữ vững an ninh", "nâng cao ý thức người dân",
           "bảo đảm an toàn tuyệt đối", "kiềm chế số vụ tai nạn", "giảm mạnh số vụ việc", "đạt nhiều kết quả tích cực",
           "vượt chỉ tiêu đề ra", "lan tỏa tới cơ sở", "không để xảy ra sự cố", "củng cố lòng tin nhân dân"]
RANKS = ["Đại tá", "Thượng tá", "Trung tá", "Thiếu tá", "Đồng chí", "Ông", "Bà"]
ROLES = ["Giám đốc", "Phó Giám đốc", "Trưởng phòng", "Phó Trưởng phòng", "Chủ tịch", "Phó Chủ tịch", "Bí thư", "Trưởng Công an"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Mai",
            "Tô", "Lương", "Phan", "Đào", "Trịnh"]
MIDDLES = ["Văn", "Thị", "Đức", "Minh", "Quang", "Hữu", "Thanh", "Ngọc", "Xuân", "Hoàng", "Công", "Thu", "Trung", "Anh"]
GIVEN = ["Hùng", "Lan", "Sơn", "Hà", "Tuấn", "Dũng", "Hương", "Long", "Phương", "Thắng", "Hải", "Yến", "Khánh", "Bình",
         "Trang", "Cường", "Nam", "Hòa", "Thảo", "Việt", "Quân", "Linh", "Đông", "Tâm", "Hiếu", "Nga", "Tùng", "Vinh"]
CRIMES = ["Giết người", "Cướp tài sản", "Lừa đảo chiếm đoạt tài sản", "Mua bán trái phép chất ma túy", "Trộm cắp tài sản",
          "Cố ý gây thương tích", "Lạm dụng tín nhiệm chiếm đoạt tài sản", "Tổ chức đánh bạc"]
VIOLATIONS = ["Vượt đèn đỏ", "Chạy quá tốc độ", "Đi sai làn đường", "Dừng đỗ sai quy định", "Không chấp hành hiệu lệnh",
              "Chở quá tải trọng"]


class Prose:
    """Sentences, paragraphs and notices from one random number generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def pick(self, words: list[str]) -> str:
        return self.rng.choice(words)

    def person(self) -> str:
        return f"{self.pick(SURNAMES)} {self.pick(MIDDLES)} {self.pick(GIVEN)}"

    def count(self) -> str:
        return f"{self.rng.randint(2, 980)} {self.pick(UNITS)}"

    def day(self) -> str:
        return f"{self.rng.randint(1, 28)}-{self.rng.randint(1, 12)}"

    def sentence(self) -> str:
        r = self.rng
        shapes = (
            lambda: f"Ngày {self.day()}, {self.pick(ORGS)} {self.pick(VERBS)} {self.pick(ACTIVITIES)} {self.pick(TOPICS)} "
                    f"tại {self.pick(PLACES)}.",
            lambda: f"Kết quả, {self.pick(ORGS)} đã {self.pick(VERBS)} {self.count()}, {self.pick(RESULTS)}.",
            lambda: f"{self.pick(RANKS)} {self.person()}, {self.pick(ROLES)} {self.pick(ORGS)}, đề nghị {self.pick(VERBS)} "
                    f"{self.pick(TOPICS)} trong {r.randint(2, 12)} tháng tới.",
            lambda: f"Qua {self.pick(ACTIVITIES)} tại {self.pick(PLACES)}, lực lượng {self.pick(VERBS)} {self.count()} "
                    f"và {self.count()}.",
            lambda: f"Dịp này, {self.pick(ORGS)} {self.pick(VERBS)} {self.count()} có thành tích về {self.pick(TOPICS)}.",
            lambda: f"Từ đầu năm {r.randint(2018, 2026)}, {self.pick(PLACES)} đã {self.pick(VERBS)} {self.count()}, "
                    f"tăng {r.randint(3, 60)}% so với cùng kỳ.",
            lambda: f"Theo {self.pick(RANKS).lower()} {self.person()}, {self.pick(TOPICS)} là nhiệm vụ {self.pick(RESULTS)}.",
            lambda: f"Trong {self.pick(ACTIVITIES)}, {r.randint(12, 400)} cán bộ {self.pick(VERBS)} {self.pick(TOPICS)} "
                    f"ở {self.pick(PLACES)} và {self.pick(PLACES)}.",
        )
        return self.pick(shapes)()

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 4)))

    def paragraphs(self) -> list[str]:
        return [self.paragraph() for _ in range(self.rng.randint(3, 7))]

    def typo(self, paragraph: str) -> str:
        """The paragraph with one word misspelt (a letter doubled), as a hurried first version has it."""
        words = paragraph.split(" ")
        long_words = [i for i, w in enumerate(words) if len(w) > 3 and w.isalpha()]
        if not long_words:
            return paragraph + "."
        i = self.rng.choice(long_words)
        k = self.rng.randrange(1, len(words[i]))
        words[i] = words[i][:k] + words[i][k - 1] + words[i][k:]
        return " ".join(words)


def notice(prose: Prose, series: str, moment: datetime) -> tuple[str, list[str]]:
    """(title, paragraphs) of one routine notice of a series: the same text as its siblings but for its specifics."""
    r = prose.rng
    if series == "reception":
        start = moment - timedelta(days=moment.weekday())
        end = start + timedelta(days=4)
        leaders = [f"{prose.pick(RANKS)} {prose.person()}, {prose.pick(ROLES)}" for _ in range(3)]
        return (f"Lịch tiếp công dân của lãnh đạo Công an thành phố tuần từ {start:%d/%m} đến {end:%d/%m/%Y}", [
            f"Thực hiện Luật Tiếp công dân, Công an thành phố Hải Phòng thông báo lịch tiếp công dân định kỳ của lãnh đạo "
            f"Công an thành phố tuần từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y} như sau.",
            f"Thứ Hai ngày {start:%d/%m/%Y}: {leaders[0]} tiếp công dân tại phòng số {r.randint(1, 9)}.",
            f"Thứ Tư ngày {start + timedelta(days=2):%d/%m/%Y}: {leaders[1]} tiếp công dân tại phòng số {r.randint(1, 9)}.",
            f"Thứ Sáu ngày {end:%d/%m/%Y}: {leaders[2]} tiếp công dân tại phòng số {r.randint(1, 9)}.",
            "Địa điểm tiếp công dân tại Trụ sở tiếp công dân của Công an thành phố Hải Phòng, số 2 Lê Đại Hành, quận Hồng Bàng. "
            "Thời gian buổi sáng từ 7 giờ 30 đến 11 giờ 30, buổi chiều từ 13 giờ 30 đến 17 giờ. Công dân đến liên hệ "
            "mang theo giấy tờ tùy thân và các tài liệu có liên quan đến nội dung khiếu nại, tố cáo, kiến nghị, phản ánh.",
        ])
    if series == "wanted":
        name = prose.person()
        born = r.randint(1960, 2004)
        return (f"Thông báo truy nã đối tượng {name}", [
            f"Cơ quan Cảnh sát điều tra Công an thành phố Hải Phòng ra Quyết định truy nã số {r.randint(10, 999)}/QĐ-TN "
            f"ngày {moment:%d/%m/%Y} đối với bị can {name}, sinh năm {born}, nơi thường trú tại {prose.pick(PLACES)}, "
            f"thành phố Hải Phòng, về tội {prose.pick(CRIMES)}.",
            f"Đặc điểm nhận dạng: cao khoảng 1m{r.randint(50, 85)}, tóc đen, "
            f"có nốt ruồi ở {prose.pick(['má trái', 'má phải', 'cằm', 'trán'])}.",
            "Đề nghị ai phát hiện hoặc biết thông tin về đối tượng trên báo ngay cho Cơ quan Cảnh sát điều tra Công an "
            "thành phố Hải Phòng hoặc cơ quan Công an nơi gần nhất để phối hợp bắt giữ. Đối tượng có thể nguy hiểm, "
            "người dân không tự ý tiếp cận và giữ bí mật thông tin về người cung cấp. Số điện thoại trực ban 069.2808.xxx "
            "hoặc gọi tổng đài 113 để được tiếp nhận và xử lý kịp thời.",
        ])
    fines = [f"Phương tiện biển kiểm soát {r.randint(14, 16)}{prose.pick(['A', 'B', 'C', 'H', 'LD'])}-{r.randint(100, 999)}."
             f"{r.randint(10, 99)}, lỗi {prose.pick(VIOLATIONS).lower()}, vi phạm ngày {r.randint(1, 28)}/{moment:%m/%Y}."
             for _ in range(r.randint(5, 9))]
    return (f"Danh sách phương tiện vi phạm giao thông phát hiện qua hệ thống camera tháng {moment:%m/%Y}", [
        f"Phòng Cảnh sát giao thông Công an thành phố Hải Phòng thông báo danh sách phương tiện vi phạm trật tự an toàn "
        f"giao thông được phát hiện qua hệ thống camera giám sát trong tháng {moment:%m/%Y} như sau.",
        " ".join(fines),
        "Đề nghị chủ phương tiện có tên trong danh sách đến Phòng Cảnh sát giao thông Công an thành phố Hải Phòng, số 1 "
        "Trần Hưng Đạo, quận Hồng Bàng, để giải quyết theo quy định. Khi đến mang theo giấy đăng ký xe, giấy phép lái xe "
        "và căn cước công dân. Quá thời hạn trên, cơ quan chức năng sẽ xử lý theo quy định của pháp luật về xử phạt vi phạm hành chính.",
    ])


NOTICE_SERIES = ("reception", "wanted", "fines")
